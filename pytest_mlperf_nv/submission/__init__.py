"""MLPerf submission trees: assembly, the plugin's own checks, truncation and compliance audits."""
