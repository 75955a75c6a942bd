"""medcodes: query understanding, ranking, facets and suggestions."""
