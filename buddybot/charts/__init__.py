"""Charts rendered as PNG bytes with matplotlib's Agg backend (no pyplot, no display).

Every word on a chart is a neighbour's text or a translation, never a formula. Matplotlib
reads text between two ``$`` as math unless told not to: an idea called ``Speeltuin $x^$
opknappen`` or a group called ``$\\foo$`` made a chart fail. ``text.parse_math`` is the
setting every text matplotlib makes takes its default from: titles, labels, tick labels,
legends, colorbars, also the tick labels it adds while drawing (``parse_math=False`` on
each call would miss those). It is set once, when the charts are first loaded, to the one
value the bot ever uses, so charts drawn at once on several threads all see it.
"""

import warnings

import matplotlib

matplotlib.rcParams["text.parse_math"] = False

# A character the font lacks is drawn as an empty box. Matplotlib warns with the character
# itself, a piece of a neighbour's text: it must not reach the logs (PRIVACY.md), and the box
# is all anyone can do about it.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
