"""Documents: what each letter, form and notice says to whom (contexts and registers)."""
