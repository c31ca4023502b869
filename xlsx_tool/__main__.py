from xlsx_tool.interfaces.cli import main

main()
