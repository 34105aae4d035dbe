import CLI

MWADCommand.main()
