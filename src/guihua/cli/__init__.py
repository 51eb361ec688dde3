"""The ``guihua`` command line: a thin adapter over guihua.usecases."""
