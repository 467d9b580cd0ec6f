namespace DeepSeekMesh.Model.Config;

/// <summary>A config.json we cannot serve: names the file and the offending field.</summary>
public sealed class ModelConfigException(string message) : Exception(message);
