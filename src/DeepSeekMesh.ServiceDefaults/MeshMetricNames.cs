namespace DeepSeekMesh.ServiceDefaults;

/// <summary>Names and units of the mesh's own metrics (meter <see cref="Telemetry.MeterName"/>).</summary>
public static class MeshMetricNames
{
    // Frontend silos: the engine (continuous batching over the paged KV cache).
    public const string SequencesRunning = "dsmesh.engine.sequences.running";
    public const string SequencesWaiting = "dsmesh.engine.sequences.waiting";
    public const string KvCacheBlocksUsed = "dsmesh.engine.kv_cache.blocks.used";
    public const string KvCacheBlocksLimit = "dsmesh.engine.kv_cache.blocks.limit";
    public const string KvCacheUtilization = "dsmesh.engine.kv_cache.utilization";
    public const string EngineSteps = "dsmesh.engine.steps";
    public const string EngineTokens = "dsmesh.engine.tokens.generated";
    /// <summary>Prompt tokens of admitted requests (the prefix cache's queries) and those of them read from the cache (its hits).</summary>
    public const string PrefixCacheQueries = "dsmesh.engine.prefix_cache.queries";
    public const string PrefixCacheHits = "dsmesh.engine.prefix_cache.hits";

    // Frontend silos: routed-expert messages sent by the ExpertDispatcher (one per expert silo per MoE layer step).
    public const string ExpertCalls = "dsmesh.expert.calls";
    public const string ExpertRows = "dsmesh.expert.rows";
    public const string ExpertRowsPerCall = "dsmesh.expert.rows_per_call";
    public const string ExpertRetries = "dsmesh.expert.retries";
    public const string ExpertWaitTime = "dsmesh.expert.wait.time";
    public const string ExpertNetworkIo = "dsmesh.expert.network.io";

    // Frontend silos: per-expert load (the model's expert stats grain) and its imbalance per MoE layer.
    public const string ExpertLoad = "dsmesh.expert.load";
    public const string ExpertLoadImbalance = "dsmesh.expert.load.imbalance";
    public const string RoutedTokens = "dsmesh.router.tokens";

    // Expert silos: calls and rows served, live expert activations.
    public const string ExpertServedCalls = "dsmesh.expert.served.calls";
    public const string ExpertServedRows = "dsmesh.expert.served.rows";
    public const string ExpertActivations = "dsmesh.expert.activations";
    public const string ExpertResidentBytes = "dsmesh.expert.resident.bytes";
    public const string ExpertForwardedRows = "dsmesh.expert.forwarded.rows";

    // Frontend silos: the expert placement plan (from the model's plan grain).
    public const string PlanVersion = "dsmesh.plan.version";
    public const string PlanMoves = "dsmesh.plan.moves";
    public const string PlanImbalance = "dsmesh.plan.imbalance";
}
