from vdcaudit.entry import main

main()
