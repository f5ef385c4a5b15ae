"""claudetop's configuration: the TOML file, ``CLAUDETOP_*`` overrides, and platform default paths."""

from claudetop.config.errors import EXIT_CONFIG, ConfigError, ConfigProblem, config_error_exit
from claudetop.config.loader import (
    ENV_ALIASES,
    config_from_data,
    config_from_text,
    default_config_path,
    default_sink_path,
    load_config,
    load_config_with_origins,
    sink_target,
    state_dir,
)
from claudetop.config.locate import Origins
from claudetop.config.resources import data_files, sample_config_text, theme_texts
from claudetop.config.schema import (
    DEFAULT_TIERS,
    BatchingConfig,
    CacheConfig,
    Config,
    ModelPriceConfig,
    MonitoringConfig,
    PricingConfig,
    RoutingConfig,
    SinkConfig,
)

__all__ = [
    "DEFAULT_TIERS",
    "ENV_ALIASES",
    "EXIT_CONFIG",
    "BatchingConfig",
    "CacheConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "ModelPriceConfig",
    "MonitoringConfig",
    "Origins",
    "PricingConfig",
    "RoutingConfig",
    "SinkConfig",
    "config_error_exit",
    "config_from_data",
    "config_from_text",
    "data_files",
    "default_config_path",
    "default_sink_path",
    "load_config",
    "load_config_with_origins",
    "sample_config_text",
    "sink_target",
    "state_dir",
    "theme_texts",
]
