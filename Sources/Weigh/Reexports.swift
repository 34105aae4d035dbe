// The settings value (window, parameter values) is part of every weighting's API.
@_exported import SettingsValue
