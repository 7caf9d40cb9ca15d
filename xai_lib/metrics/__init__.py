"""Attribution metrics: insertion, PIC (SIC/AIC with entropy or MS-SSIM information), localisation."""

from .common import MetricResult, SkippedImageError, saliency_2d
from .insertion import insertion_auc, insertion_aucs, insertion_images
from .localisation import localisation, normalised_saliency
from .pic import aggregate_curve, curve_area, pic_metric, pic_metrics, webp_size

__all__ = [
    "MetricResult", "SkippedImageError", "saliency_2d", "insertion_auc", "insertion_aucs", "insertion_images",
    "localisation", "normalised_saliency", "aggregate_curve", "curve_area", "pic_metric", "pic_metrics", "webp_size",
]  # fmt: skip
