"""medcodes: the HTTP API, the search page and the command line."""
