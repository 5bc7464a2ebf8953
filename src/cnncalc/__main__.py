from cnncalc.cli.main import run

run()
