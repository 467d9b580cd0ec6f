using System.Text.Json;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Contracts.Mesh;
using DeepSeekMesh.Contracts.Placement;
using Microsoft.AspNetCore.Http;
using Orleans.Runtime;

namespace DeepSeekMesh.Gateway;

/// <summary>GET /v1/models, /v1/models/{id}, /health, /health/ready and the admin view GET /v1/mesh.</summary>
public sealed class InfoEndpoints(ServedModel model, IGrainFactory grains, MeshReports reports, GatewayMetrics metrics)
{
    static readonly TimeSpan ClusterTimeout = TimeSpan.FromSeconds(5);

    void ModelObject(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", model.Id);
        w.WriteString("object", "model");
        w.WriteNumber("created", model.Created);
        w.WriteString("owned_by", "deepseekmesh");
        w.WriteString("root", model.Id);
        w.WriteNull("parent");
        w.WriteNumber("max_model_len", model.ContextLength);
        // A demo checkpoint (config.json says "dsmesh_random_weights": true): its text is noise.
        w.WriteBoolean("random_weights", model.RandomWeights);
        w.WriteEndObject();
    }

    public Task Models(HttpContext context) => Json.WriteAsync(context, w =>
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        ModelObject(w);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public Task Model(HttpContext context, string id) => id == model.Id
        ? Json.WriteAsync(context, ModelObject)
        : throw ApiException.ModelNotFound(id);

    public static Task Live(HttpContext context) => Json.WriteAsync(context, w =>
    {
        w.WriteStartObject();
        w.WriteString("status", "ok");
        w.WriteEndObject();
    });

    /// <summary>
    /// Ready when the cluster answers with at least one active silo and the model's tokenizer is loaded;
    /// not ready either when every silo reported and none runs an engine (no frontend yet).
    /// </summary>
    public async Task Ready(HttpContext context)
    {
        string? problem = null;
        int silos = 0;
        // Up to three asks, 250 ms apart: a request that went out through a frontend's client gateway
        // just as it died is rejected, and the client moves to another gateway once it has marked that
        // one dead. One live frontend keeps the gateway ready.
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            if (attempt > 1) await Task.Delay(250, context.RequestAborted);
            problem = null;
            try
            {
                var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(ClusterTimeout, context.RequestAborted);
                silos = hosts.Count;
                var described = await reports.DescribeAsync(hosts.Keys, context.RequestAborted);
                if (silos == 0) problem = "no active silo in the cluster";
                else if (described.Count == silos && described.Values.All(r => r.Engine is null)) problem = "no frontend silo: no silo in the cluster runs an engine";
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
            {
                problem = $"cluster unreachable: {e.GetType().Name}: {e.Message}";
            }
        }
        await Json.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", problem is null ? "ready" : "not_ready");
            if (problem is not null) w.WriteString("reason", problem);
            w.WriteString("model", model.Id);
            w.WriteNumber("silos", silos);
            w.WriteEndObject();
        }, problem is null ? 200 : 503);
    }

    /// <summary>
    /// The mesh as the cluster reports it: each active silo (address, name, role, activations of the
    /// mesh's grain types, the experts it hosts, and what its <see cref="IMeshSiloGrain"/> reports),
    /// per-expert token counts from the stats grain, and the engines of the frontend silos, summed.
    /// </summary>
    public async Task Mesh(HttpContext context)
    {
        var ct = context.RequestAborted;
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: true).WaitAsync(ClusterTimeout, ct);
        var activations = await management.GetDetailedGrainStatistics().WaitAsync(ClusterTimeout, ct);
        var load = await grains.GetGrain<IExpertStatsGrain>(model.Id).GetLoad().WaitAsync(ClusterTimeout, ct);
        var described = await reports.DescribeAsync(hosts.Select(h => h.SiloAddress), ct);
        var plan = await grains.GetGrain<IExpertPlanGrain>(model.Id).Status().WaitAsync(ClusterTimeout, ct);
        var bySilo = activations.GroupBy(a => a.SiloAddress).ToDictionary(g => g.Key, g => g.ToList());
        await Json.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model.Id);
            WritePlan(w, plan);
            w.WriteStartArray("silos");
            foreach (var h in hosts.OrderBy(h => h.SiloAddress.ToString()))
                WriteSilo(w, h, bySilo.GetValueOrDefault(h.SiloAddress) ?? [], described.GetValueOrDefault(h.SiloAddress));
            w.WriteEndArray();
            w.WriteStartArray("experts");
            foreach (var (layer, tokens) in load.TokensPerExpert.OrderBy(p => p.Key))
                for (int e = 0; e < tokens.Length; e++)
                {
                    w.WriteStartObject();
                    w.WriteNumber("layer", layer);
                    w.WriteNumber("expert", e);
                    w.WriteNumber("tokens", tokens[e]);
                    w.WriteEndObject();
                }
            w.WriteEndArray();
            w.WriteNumber("expert_tokens_total", load.Total);
            var engines = described.Values.Select(r => r.Engine).OfType<EngineReport>().ToList();
            if (engines.Count > 0) WriteEngines(w, engines);
            w.WriteStartObject("gateway");
            w.WriteNumber("requests", metrics.Requests);
            w.WriteNumber("tokens_streamed", metrics.Tokens);
            w.WriteNumber("pipeline_us_per_token", Math.Round(metrics.MicrosecondsPerToken, 2));
            w.WriteNumber("pipeline_us_total", Math.Round(metrics.MicrosecondsTotal, 1));
            w.WriteNumber("frontend_retries", metrics.FrontendRetries);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    static void WriteSilo(Utf8JsonWriter w, MembershipEntry host, List<DetailedGrainStatistic> activations, SiloReport? report)
    {
        w.WriteStartObject();
        w.WriteString("address", host.SiloAddress.ToParsableString());
        w.WriteString("name", host.SiloName);
        w.WriteString("status", host.Status.ToString());
        w.WriteString("role", string.IsNullOrEmpty(report?.Role) ? "unknown" : report.Role);
        w.WriteStartObject("activations");
        foreach (var g in activations.GroupBy(a => a.GrainId.Type.ToString()!).Where(g => g.Key.StartsWith("dsm-", StringComparison.Ordinal)).OrderBy(g => g.Key))
            w.WriteNumber(g.Key, g.Count());
        w.WriteEndObject();
        w.WriteStartArray("experts");
        foreach (var a in activations.Where(a => a.GrainId.Type.ToString() == "dsm-expert").Select(a => a.GrainId.Key.ToString()).Order())
            w.WriteStringValue(a);
        w.WriteEndArray();
        if (report is not null)
        {
            w.WriteBoolean("draining", report.Draining);
            w.WriteNumber("plan_version", report.PlanVersion);
            w.WriteNumber("expert_bytes", report.ExpertBytes);
            w.WriteNumber("expert_rows", report.ExpertRows);
            w.WriteNumber("expert_calls", report.ExpertCalls);
            if (report.ExpertCapacity is { } capacity) w.WriteNumber("expert_capacity", capacity);
            else w.WriteNull("expert_capacity");
            // experts hosted: replica 0 of each, and the extra replicas of hot experts
            w.WriteNumber("hosted_experts", report.Experts.Count(k => k.EndsWith("/0", StringComparison.Ordinal)));
            w.WriteNumber("hosted_replicas", report.Experts.Count(k => !k.EndsWith("/0", StringComparison.Ordinal)));
        }
        w.WriteEndObject();
    }

    /// <summary>The model's expert placement plan as its plan grain holds it.</summary>
    static void WritePlan(Utf8JsonWriter w, ExpertPlanStatus plan)
    {
        w.WriteStartObject("plan");
        w.WriteNumber("version", plan.Version);
        w.WriteNumber("expert_silos", plan.Silos);
        w.WriteNumber("replicas", plan.Replicas);
        w.WriteNumber("moves", plan.Moves);
        w.WriteNumber("imbalance", Math.Round(plan.Imbalance, 3));
        w.WriteStartArray("draining");
        foreach (var silo in plan.Draining) w.WriteStringValue(silo);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The frontend engines' queues, KV caches and work, summed.</summary>
    static void WriteEngines(Utf8JsonWriter w, List<EngineReport> engines)
    {
        w.WriteStartObject("engine");
        w.WriteNumber("running", engines.Sum(e => e.Running));
        w.WriteNumber("waiting", engines.Sum(e => e.Waiting));
        w.WriteNumber("cache_blocks_used", engines.Sum(e => e.CacheBlocksUsed));
        w.WriteNumber("cache_blocks_total", engines.Sum(e => e.CacheBlocksTotal));
        w.WriteNumber("steps", engines.Sum(e => e.Steps));
        w.WriteNumber("tokens_generated", engines.Sum(e => e.TokensGenerated));
        w.WriteNumber("expert_calls", engines.Sum(e => e.ExpertCalls));
        w.WriteNumber("expert_rows", engines.Sum(e => e.ExpertRows));
        w.WriteNumber("expert_retries", engines.Sum(e => e.ExpertRetries));
        w.WriteEndObject();
    }
}
