from vdcaudit.commands.entry import main

main()
