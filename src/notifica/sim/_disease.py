"""Natural history of one infection, vectorised (Ferretti et al. 2020, sim §4.2).

Infectiousness follows the generation-time distribution: a Weibull density of the time since
infection τ, scaled so that its peak is 1 (`relative_infectiousness`). Asymptomatic people have
the same profile, scaled by ``asymptomatic_infectiousness``. Symptoms start after a log-normal
incubation period. Nothing is infectious before ``latent_period`` or after
``infectious_period`` (then recovered and immune).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from notifica.sim._params_disease import EpidemicParams

__all__ = ["incubation_days", "relative_infectiousness", "weibull_mode"]

FloatArray = npt.NDArray[np.float64]


def weibull_mode(shape: float, scale: float) -> float:
    """Where a Weibull density peaks (0 for shape ≤ 1)."""
    return scale * ((shape - 1) / shape) ** (1 / shape) if shape > 1 else 0.0


def _weibull_pdf(tau: FloatArray, shape: float, scale: float) -> FloatArray:
    z = np.maximum(tau, 0.0) / scale
    with np.errstate(divide="ignore", invalid="ignore"):
        pdf = (shape / scale) * z ** (shape - 1) * np.exp(-(z**shape))
    return np.nan_to_num(pdf, nan=0.0, posinf=0.0)


def relative_infectiousness(tau_d: FloatArray, params: EpidemicParams) -> FloatArray:
    """Infectiousness τ days after infection, relative to the profile's peak (0 outside).

    Args:
        tau_d: time since infection in days (NaN for the never infected gives 0).
        params: the scenario's epidemic section.
    """
    shape, scale = params.generation_shape, params.generation_scale_d
    peak_at = weibull_mode(shape, scale)
    peak = float(_weibull_pdf(np.array([peak_at]), shape, scale)[0]) if shape > 1 else math.inf
    tau = np.nan_to_num(np.asarray(tau_d, dtype=np.float64), nan=-1.0)
    inside = (tau >= params.latent_period_d) & (tau < params.infectious_period_d)
    if not math.isfinite(peak):  # shape ≤ 1: the density is decreasing; use its value at latency
        peak = float(_weibull_pdf(np.array([max(params.latent_period_d, 1e-3)]), shape, scale)[0])
    return np.where(inside, _weibull_pdf(tau, shape, scale) / peak, 0.0)


def incubation_days(z: FloatArray, params: EpidemicParams) -> FloatArray:
    """Log-normal incubation periods from standard-normal draws `z`."""
    return params.incubation_median_d * np.exp(params.incubation_sigma * np.asarray(z))
