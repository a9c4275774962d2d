"""The built-in harness: our SUT on the real MLPerf LoadGen bindings."""
