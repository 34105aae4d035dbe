// The settings value (parameter values, the method's report) is part of every method's API.
@_exported import SettingsValue
