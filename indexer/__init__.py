"""medcodes: analysis, abbreviation expansion and writing the Whoosh index."""
