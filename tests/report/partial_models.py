"""Models with an op no layer kind maps (torch.roll), from the audit of issue 22: a traced graph
of either is PARTIAL. Loaded by path (`partial_models.py:Rolled`) by the tests beside it."""

import torch
from torch import nn


class Rolled(nn.Module):
    """A roll on the main path: every field after it is unknown (the audit's m.py)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.c3 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = torch.roll(x, 1, dims=2)
        x = self.c2(x)
        x = self.pool(x)
        x = self.c3(x)
        x = x.mean((2, 3))
        return self.fc(x)


class RolledBranch(nn.Module):
    """A roll on one branch of an add: the other branch (b, field 7) stays known, the add and
    what follows do not (the audit's m2.py)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.a = nn.Conv2d(8, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 5, padding=2)
        self.c3 = nn.Conv2d(8, 8, 3, padding=1, stride=2)

    def forward(self, x):
        x = self.c1(x)
        y = torch.roll(self.a(x), 1, dims=3)
        z = self.b(x)
        return self.c3(y + z)
