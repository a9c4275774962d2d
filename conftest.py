# The project's own tests use pytester.
pytest_plugins = ["pytester"]
