"""medcodes: reads official code-set files into records."""
