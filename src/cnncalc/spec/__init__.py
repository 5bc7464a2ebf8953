"""The public home of the Python spec vocabulary: `from cnncalc.spec.python import net, conv`."""
