"""Reports: terminal summary (JUnit properties are written by pytest from item properties)."""
