namespace DeepSeekMesh.Contracts.Mesh;

/// <summary>
/// The agent of one silo (key: the silo's address, <c>SiloAddress.ToParsableString()</c>), placed on
/// that silo whatever its role. On expert silos it is the dispatcher: it receives ONE message per
/// (frontend step, MoE layer) carrying the rows of every expert/replica the placement plan put on
/// this silo and answers once. On every silo it reports what the silo is and hosts.
/// </summary>
[Alias("dsm.IMeshSiloGrain")]
public interface IMeshSiloGrain : IGrainWithStringKey
{
    /// <summary>Runs each item's rows through its expert; the result rows are in the batch's order.</summary>
    [Alias("Forward")]
    Task<TokenRows> Forward(ExpertBatch batch);

    [Alias("Describe")]
    Task<SiloReport> Describe();
}
