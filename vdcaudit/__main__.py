from vdcaudit.cli import main

main()
