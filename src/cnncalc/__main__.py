from cnncalc.cli.main import main

main()
