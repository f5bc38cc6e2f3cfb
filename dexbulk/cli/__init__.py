"""The command line: the only package that imports Typer or draws on a terminal.

``app.py`` builds the Typer app and is the one place errors become messages and exit codes;
the command modules parse input, call one library function and render its result.
"""
