"""notifica: an open-source exposure-notification system modelled on Immuni and GAEN.

Layers, lowest first (see docs/architecture.md): `protocol` (sans-IO), `matching`,
`server` / `portal` / `phone`, `sim`, and the `cli` on top.
"""

__version__ = "0.1.0"
