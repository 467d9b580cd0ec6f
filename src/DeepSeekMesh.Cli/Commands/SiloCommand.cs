using System.CommandLine;
using System.Net;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Silo;
using DeepSeekMesh.Silo.Hosting;
using Microsoft.Extensions.Hosting;

namespace DeepSeekMesh.Cli.Commands;

/// <summary>
/// <c>dsmesh silo --role frontend|expert|all --model DIR [--silo-port P --gateway-port G]
/// [--primary HOST:PORT | --redis CONNSTR]</c>: runs one mesh silo until Ctrl+C.
/// </summary>
public static class SiloCommand
{
    public static Command Create()
    {
        var role = new Option<string>("--role") { Description = "frontend (engine), expert (routed experts) or all", DefaultValueFactory = _ => "all" };
        var model = new Option<DirectoryInfo>("--model") { Description = "HuggingFace model directory (config.json + *.safetensors)", Required = true };
        var modelId = new Option<string?>("--model-id") { Description = "model name in metrics and stats (default: the directory's name)" };
        var siloPort = new Option<int>("--silo-port") { Description = "silo-to-silo port", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "client gateway port (frontend and all roles; an expert silo opens none: clients reach frontends only)", DefaultValueFactory = _ => 30000 };
        var address = new Option<string>("--address") { Description = "IP address to listen on and advertise", DefaultValueFactory = _ => "127.0.0.1" };
        var primary = new Option<string?>("--primary") { Description = "development clustering: the primary silo's HOST:PORT (default: this silo is the primary)" };
        var redis = new Option<string?>("--redis") { Description = "Redis membership: StackExchange.Redis connection string (e.g. 127.0.0.1:6379)" };
        var clusterId = new Option<string>("--cluster-id") { Description = "Orleans cluster id", DefaultValueFactory = _ => "dsmesh" };
        var wire = new Option<string>("--wire")
        {
            Description = "expert row dtype on the wire: f32 (exact) or bf16 (half the bytes); default auto: the compute dtype",
            DefaultValueFactory = _ => "auto",
        };
        var capacity = new Option<int?>("--expert-capacity")
        {
            Description = "routed experts (replicas) this expert silo may host; the placement plan puts the rest elsewhere (default: unlimited)",
        };
        var drainTimeout = new Option<double>("--drain-timeout")
        {
            Description = "seconds a stopping expert silo waits for its experts to move away (SIGTERM drains first)",
            DefaultValueFactory = _ => 30,
        };
        var noPrefixCaching = new Option<bool>("--no-prefix-caching") { Description = "frontend: turn off automatic prefix caching (reuse of cached prompt prefixes)" };
        var compute = new ComputeOptions();
        var command = new Command("silo", "Run one silo of the mesh (frontend, expert or all) until Ctrl+C")
        {
            role, model, modelId, siloPort, gatewayPort, address, primary, redis, clusterId, wire, capacity, drainTimeout, noPrefixCaching,
        };
        compute.AddTo(command);
        var tls = new TlsCliOptions();
        tls.AddTo(command);
        command.SetAction(parse =>
        {
            if (parse.GetValue(primary) is not null && parse.GetValue(redis) is not null)
                throw new ArgumentException("give --primary or --redis, not both");
            var directory = parse.GetValue(model)!;
            if (!directory.Exists) throw new DirectoryNotFoundException($"{directory.FullName}: model directory not found");
            if (parse.GetValue(capacity) is < 0) throw new ArgumentException("--expert-capacity must be 0 or more");
            if (parse.GetValue(drainTimeout) is < 0 or > 3600) throw new ArgumentException("--drain-timeout must be in [0, 3600] seconds");
            if (!IPAddress.TryParse(parse.GetValue(address), out var ip)) throw new ArgumentException($"--address: '{parse.GetValue(address)}' is not an IP address");
            var modelOptions = compute.Read(parse);
            var settings = new SiloHostSettings
            {
                Mesh = new MeshSiloOptions
                {
                    Role = SiloRoles.Parse(parse.GetValue(role)!),
                    ModelDirectory = directory.FullName,
                    ModelId = parse.GetValue(modelId),
                    WireDtype = parse.GetValue(wire) switch
                    {
                        "auto" => ComputeOptions.WireDtypeFor(modelOptions),
                        "f32" or "fp32" => RowDtype.F32,
                        "bf16" => RowDtype.BF16,
                        var w => throw new ArgumentException($"--wire: '{w}' is not f32, bf16 or auto"),
                    },
                    Model = modelOptions,
                    Engine = new EngineOptions { EnablePrefixCaching = !parse.GetValue(noPrefixCaching) },
                    ExpertCapacity = parse.GetValue(capacity),
                    Plan = new ExpertPlanOptions { DrainTimeout = TimeSpan.FromSeconds(parse.GetValue(drainTimeout)) },
                },
                SiloPort = parse.GetValue(siloPort),
                GatewayPort = parse.GetValue(gatewayPort),
                Address = ip,
                Primary = parse.GetValue(primary) is { } p ? MeshSiloHost.ParseEndpoint(p) : null,
                Redis = parse.GetValue(redis),
                ClusterId = parse.GetValue(clusterId)!,
                Tls = tls.Read(parse),
            };
            using var host = MeshSiloHost.Build(settings);
            host.Run(); // until Ctrl+C / SIGTERM
            return 0;
        });
        return command;
    }
}
