// The settings value is what the catalog validates and describes.
@_exported import SettingsValue
