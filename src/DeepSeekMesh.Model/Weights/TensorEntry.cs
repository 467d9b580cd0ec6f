namespace DeepSeekMesh.Model.Weights;

/// <summary>One tensor of a safetensors header: byte range [Begin, End) relative to the data section.</summary>
public sealed record TensorEntry(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public long ByteCount => End - Begin;
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}
