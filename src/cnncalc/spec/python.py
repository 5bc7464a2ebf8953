"""The Python spec vocabulary, under the name spec files import: `from cnncalc.spec.python import
net, conv, relu`. The implementation is `cnncalc.frontends.python`; this name is that very module
(its `import *`, its did-you-mean for unknown kinds and its source positions included)."""

import sys

from cnncalc.frontends import python as _python

sys.modules[__name__] = _python
