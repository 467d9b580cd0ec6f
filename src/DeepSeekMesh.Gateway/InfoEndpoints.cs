using System.Text.Json;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Silo;
using DeepSeekMesh.Silo.Frontend;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace DeepSeekMesh.Gateway;

/// <summary>GET /v1/models, /v1/models/{id}, /health, /health/ready and the admin view GET /v1/mesh.</summary>
public sealed class InfoEndpoints(ServedModel model, IGrainFactory grains, IServiceProvider services, GatewayMetrics metrics)
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

    public Task Models(HttpContext context) => CompletionEndpoints.WriteJson(context, w =>
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        ModelObject(w);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public Task Model(HttpContext context, string id) => id == model.Id
        ? CompletionEndpoints.WriteJson(context, ModelObject)
        : throw ApiException.ModelNotFound(id);

    public static Task Live(HttpContext context) => CompletionEndpoints.WriteJson(context, w =>
    {
        w.WriteStartObject();
        w.WriteString("status", "ok");
        w.WriteEndObject();
    });

    /// <summary>Ready when the cluster answers with at least one active silo and the model's tokenizer is loaded (and, co-hosted, the engine).</summary>
    public async Task Ready(HttpContext context)
    {
        string? problem = null;
        int silos = 0;
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(ClusterTimeout, context.RequestAborted);
            silos = hosts.Count;
            if (silos == 0) problem = "no active silo in the cluster";
            if (services.GetService<MeshFrontend>() is { Enabled: true } frontend) _ = frontend.Engine.Stats;
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            problem = $"cluster unreachable: {e.GetType().Name}: {e.Message}";
        }
        await CompletionEndpoints.WriteJson(context, w =>
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
    /// mesh's grain types, the experts it hosts), per-expert token counts from the stats grain, and
    /// the co-hosted engine's queue and KV cache when this process runs a frontend silo.
    /// </summary>
    public async Task Mesh(HttpContext context)
    {
        var ct = context.RequestAborted;
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: true).WaitAsync(ClusterTimeout, ct);
        var activations = await management.GetDetailedGrainStatistics().WaitAsync(ClusterTimeout, ct);
        var load = await grains.GetGrain<IExpertStatsGrain>(model.Id).GetLoad().WaitAsync(ClusterTimeout, ct);
        var metadata = services.GetService<ISiloMetadataCache>();
        var roles = new Dictionary<SiloAddress, string>();
        foreach (var h in hosts)
        {
            if (metadata?.GetSiloMetadata(h.SiloAddress).Metadata.TryGetValue(SiloRoles.MetadataKey, out var role) == true) roles[h.SiloAddress] = role;
        }
        var bySilo = activations.GroupBy(a => a.SiloAddress).ToDictionary(g => g.Key, g => g.ToList());
        // Without the silo metadata cache (a separate gateway process), ask one expert per silo: it reports its silo's role.
        foreach (var (silo, list) in bySilo)
        {
            if (roles.ContainsKey(silo)) continue;
            var expert = list.FirstOrDefault(a => a.GrainId.Type.ToString() == "dsm-expert");
            if (expert is not null)
            {
                try
                {
                    var (layer, e, replica) = ExpertKey.Parse(expert.GrainId.Key.ToString()!);
                    roles[silo] = (await grains.GetExpertGrain(layer, e, replica).Describe().WaitAsync(ClusterTimeout, ct)).Role;
                }
                catch (Exception) when (!ct.IsCancellationRequested) { }
            }
            else if (list.Any(a => a.GrainId.Type.ToString() is "dsm-completion" or "dsm-router")) roles[silo] = SiloRoles.Frontend;
        }
        var frontend = services.GetService<MeshFrontend>();
        await CompletionEndpoints.WriteJson(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model.Id);
            w.WriteStartArray("silos");
            foreach (var h in hosts.OrderBy(h => h.SiloAddress.ToString()))
            {
                var list = bySilo.GetValueOrDefault(h.SiloAddress) ?? [];
                w.WriteStartObject();
                w.WriteString("address", h.SiloAddress.ToParsableString());
                w.WriteString("name", h.SiloName);
                w.WriteString("status", h.Status.ToString());
                w.WriteString("role", roles.GetValueOrDefault(h.SiloAddress, "unknown"));
                w.WriteStartObject("activations");
                foreach (var g in list.GroupBy(a => a.GrainId.Type.ToString()!).Where(g => g.Key.StartsWith("dsm-", StringComparison.Ordinal)).OrderBy(g => g.Key))
                    w.WriteNumber(g.Key, g.Count());
                w.WriteEndObject();
                w.WriteStartArray("experts");
                foreach (var a in list.Where(a => a.GrainId.Type.ToString() == "dsm-expert").Select(a => a.GrainId.Key.ToString()).Order())
                    w.WriteStringValue(a);
                w.WriteEndArray();
                w.WriteEndObject();
            }
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
            if (frontend is { Enabled: true })
            {
                var s = frontend.Engine.Stats;
                w.WriteStartObject("engine");
                w.WriteNumber("running", s.Running);
                w.WriteNumber("waiting", s.Waiting);
                w.WriteNumber("cache_blocks_used", s.CacheBlocksUsed);
                w.WriteNumber("cache_blocks_total", s.CacheBlocksTotal);
                w.WriteNumber("steps", s.StepsRun);
                w.WriteNumber("tokens_generated", s.TokensGenerated);
                w.WriteEndObject();
            }
            w.WriteStartObject("gateway");
            w.WriteNumber("requests", metrics.Requests);
            w.WriteNumber("tokens_streamed", metrics.Tokens);
            w.WriteNumber("pipeline_us_per_token", Math.Round(metrics.MicrosecondsPerToken, 2));
            w.WriteNumber("pipeline_us_total", Math.Round(metrics.MicrosecondsTotal, 1));
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }
}
