namespace DeepSeekMesh.Gateway.Frontends;

/// <summary>The frontend silo that held a request was declared dead (or dropped the call) while the request ran.</summary>
public sealed class FrontendLostException(string silo, Exception? inner = null)
    : Exception($"frontend silo {silo} was lost", inner)
{
    public string Silo { get; } = silo;
}
