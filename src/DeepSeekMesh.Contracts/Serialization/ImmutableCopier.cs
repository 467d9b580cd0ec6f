using Orleans.Serialization.Cloning;

namespace DeepSeekMesh.Contracts.Serialization;

/// <summary>
/// The copier of an immutable domain type: a call inside one process (the gateway beside its silo)
/// passes the value as it is instead of copying it through its surrogate.
/// </summary>
public abstract class ImmutableCopier<T> : IDeepCopier<T>
{
    public T? DeepCopy(T? input, CopyContext context) => input;
}
