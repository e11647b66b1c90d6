"""The command line: click commands, their shared options, output targets, and the console entry point."""
