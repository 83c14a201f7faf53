"""PDF: composing pages (overlays, static pages), streaming print files, fonts, assembly."""
