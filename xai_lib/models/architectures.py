"""The default architectures: a plain VGG-style CNN, a small residual network and an MLP.

Every ReLU is its own, non-inplace module, used once: captum's DeepLift, GuidedBackprop and Deconvolution
hook ReLU modules and need one module per use.
"""

from __future__ import annotations

import torch
from torch import nn


class SmallVGG(nn.Module):
    """VGG-style (as torchvision's ``vgg*_bn``): blocks of (3x3 conv, BN, ReLU) x ``convs_per_block`` then
    2x2 max-pool; FC head."""

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 8,
        widths: tuple[int, ...] = (16, 32, 64, 64),
        convs_per_block: int = 1,
        hidden: int = 128,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for w in widths:
            for _ in range(convs_per_block):
                layers += [nn.Conv2d(c, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(inplace=False)]
                c = w
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c * 4, hidden), nn.ReLU(inplace=False), nn.Linear(hidden, num_classes)
        )

    @property
    def first_conv(self) -> nn.Conv2d:
        return self.features[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)))


class BasicBlock(nn.Module):
    """ResNet basic block: conv-BN-ReLU-conv-BN + (projected) skip, then ReLU; two distinct ReLU modules."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU(inplace=False)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu2 = nn.ReLU(inplace=False)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + self.shortcut(x))


class SmallResNet(nn.Module):
    """A small ResNet: 3x3 stem (stride ``stem_stride``), one basic block per stage (stride 2 after the
    first), global average pool, FC."""

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 8,
        widths: tuple[int, ...] = (16, 32, 64, 64),
        stem_stride: int = 2,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, stride=stem_stride, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=False),
        )
        blocks, c = [], widths[0]
        for i, w in enumerate(widths):
            blocks.append(BasicBlock(c, w, stride=1 if i == 0 else 2))
            c = w
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    @property
    def first_conv(self) -> nn.Conv2d:
        return self.stem[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


class MLP(nn.Module):
    """Fully connected classifier for tabular data."""

    def __init__(self, in_features: int, num_classes: int, hidden: tuple[int, ...] = (64, 32)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_features
        for h in hidden:
            layers += [nn.Linear(c, h), nn.ReLU(inplace=False)]
            c = h
        layers.append(nn.Linear(c, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
