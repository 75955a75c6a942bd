"""End-to-end tests of the search page in a real browser."""
