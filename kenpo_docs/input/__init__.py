"""Input: read a roster file (CSV or xlsx) into members, households and rejected rows."""
