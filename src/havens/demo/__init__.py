"""Demo data for ``make demo``: real-looking organisations, one user per role, reference
geography, and the data of each domain as it lands. Never used outside a demo database."""
