namespace DeepSeekMesh.Model.Weights;

/// <summary>A checkpoint file or tensor we cannot read: the message names the file and the tensor.</summary>
public sealed class WeightFormatException(string message) : Exception(message);
