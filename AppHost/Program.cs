using DeepSeekMesh.AppHost;
using Microsoft.Extensions.Configuration;

// The whole mesh on one machine: one frontend silo (the Orleans primary, development clustering),
// Mesh:ExpertSilos expert silos and the gateway, all of them the `dsmesh` CLI with different
// arguments. Without Mesh:Model, a random-weight demo model is written once into the cache first.
var builder = DistributedApplication.CreateBuilder(args);
var mesh = MeshSettings.From(builder.Configuration);

string modelDirectory;
IResourceBuilder<ProjectResource>? demoModel = null;
if (!string.IsNullOrWhiteSpace(mesh.Model))
{
    modelDirectory = Path.GetFullPath(mesh.Model);
    if (!Directory.Exists(modelDirectory)) throw new DirectoryNotFoundException($"Mesh:Model: {modelDirectory} not found");
}
else
{
    modelDirectory = mesh.DemoDirectory;
    if (!DemoModel.IsComplete(modelDirectory))
    {
        var tokenizer = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "assets", "tokenizer", "deepseek-v3"));
        demoModel = builder.AddProject<Projects.DeepSeekMesh_Cli>("demo-model")
            .WithArgs(DemoModel.InitArguments(modelDirectory, tokenizer));
    }
}

IResourceBuilder<ProjectResource> Silo(string name, string role, int index)
{
    int siloPort = mesh.SiloPortBase + index, clientPort = mesh.OrleansGatewayPortBase + index;
    var silo = builder.AddProject<Projects.DeepSeekMesh_Cli>(name)
        .WithArgs("silo", "--role", role, "--model", modelDirectory, "--silo-port", siloPort,
            "--cluster-id", mesh.ClusterId, "--threads", mesh.Threads)
        // Orleans speaks TCP on pinned ports, not through the orchestrator's proxy.
        .WithEndpoint(name: "orleans-silo", port: siloPort, targetPort: siloPort, scheme: "tcp", isProxied: false)
        // ServiceDefaults' management endpoint: /health (joined the cluster, model loaded), /alive, /metrics.
        .WithHttpEndpoint(name: "management", env: "Management__Port")
        .WithEnvironment("Telemetry__Prometheus", "true")
        .WithHttpHealthCheck("/health", endpointName: "management");
    // Only frontends open a client gateway (the gateway reaches completion grains there; expert silos open none).
    if (role != "expert")
        silo.WithArgs("--gateway-port", clientPort)
            .WithEndpoint(name: "orleans-gateway", port: clientPort, targetPort: clientPort, scheme: "tcp", isProxied: false);
    if (!string.IsNullOrWhiteSpace(mesh.ModelId)) silo.WithArgs("--model-id", mesh.ModelId);
    if (index > 0) silo.WithArgs("--primary", $"127.0.0.1:{mesh.SiloPortBase}");
    if (demoModel is not null) silo.WaitForCompletion(demoModel);
    return silo;
}

var frontend = Silo("frontend", "frontend", 0);
var experts = Enumerable.Range(1, mesh.ExpertSilos)
    .Select(i => Silo($"expert-{i}", "expert", i).WaitFor(frontend)) // secondaries join the primary
    .ToList();

var gateway = builder.AddProject<Projects.DeepSeekMesh_Cli>("gateway")
    .WithArgs("gateway", "--model", modelDirectory, "--port", mesh.GatewayPort, "--primary", $"127.0.0.1:{mesh.OrleansGatewayPortBase}",
        "--cluster-id", mesh.ClusterId)
    .WithHttpEndpoint(name: "http", port: mesh.GatewayPort, targetPort: mesh.GatewayPort, isProxied: false)
    .WithEnvironment("Telemetry__Prometheus", "true")
    .WithHttpHealthCheck("/health/ready")
    .WithUrlForEndpoint("http", url => url.DisplayText = "OpenAI API")
    .WaitFor(frontend);
if (!string.IsNullOrWhiteSpace(mesh.ModelId)) gateway.WithArgs("--model-id", mesh.ModelId);
if (demoModel is not null) gateway.WaitForCompletion(demoModel);
foreach (var expert in experts) gateway.WaitFor(expert); // requests need the routed experts

builder.Build().Run();
