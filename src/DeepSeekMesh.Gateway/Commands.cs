using System.CommandLine;
using System.Net;
using DeepSeekMesh.Silo;
using DeepSeekMesh.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using TorchSharp;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// <c>dsmesh serve --model DIR [--port 8000] [--host 127.0.0.1] [--api-key K]…</c>: the gateway and a
/// one-silo mesh (role all) in one process — the laptop/demo mode.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var c = new GatewayCliOptions();
        var siloPort = new Option<int>("--silo-port") { Description = "the in-process silo's silo-to-silo port", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "the in-process silo's Orleans client gateway port (0 = none)", DefaultValueFactory = _ => 30000 };
        var compute = new ComputeOptions();
        var command = new Command("serve", "Serve the OpenAI-compatible API with a one-silo mesh in this process, until Ctrl+C");
        c.AddTo(command);
        command.Add(siloPort);
        command.Add(gatewayPort);
        compute.AddTo(command);
        command.SetAction(parse =>
        {
            var settings = c.Settings(parse) with
            {
                Silo = new MeshSiloOptions
                {
                    Model = compute.Read(parse),
                },
                SiloPort = parse.GetValue(siloPort),
                SiloGatewayPort = parse.GetValue(gatewayPort),
            };
            return Run(settings);
        });
        return command;
    }

    internal static int Run(GatewaySettings settings)
    {
        var app = GatewayHost.Build(settings);
        app.Run(); // until Ctrl+C / SIGTERM
        return 0;
    }
}

/// <summary>
/// <c>dsmesh gateway --model DIR --port P (--primary HOST:PORT | --redis CONN)</c>: the gateway alone,
/// an Orleans client of a running mesh. The model directory gives the tokenizer, chat template and config.
/// </summary>
public static class GatewayCommand
{
    public static Command Create()
    {
        var c = new GatewayCliOptions();
        var primary = new Option<string[]>("--primary")
        {
            Description = "a silo's Orleans client gateway HOST:PORT (its --gateway-port, default 30000); repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var redis = new Option<string?>("--redis") { Description = "Redis membership: StackExchange.Redis connection string (e.g. 127.0.0.1:6379)" };
        var command = new Command("gateway", "Serve the OpenAI-compatible API as a client of a running mesh, until Ctrl+C");
        c.AddTo(command);
        command.Add(primary);
        command.Add(redis);
        command.SetAction(parse =>
        {
            var gateways = (parse.GetValue(primary) ?? []).Select(MeshSiloHost.ParseEndpoint).ToArray();
            if (gateways.Length > 0 && parse.GetValue(redis) is not null) throw new ArgumentException("give --primary or --redis, not both");
            if (gateways.Length == 0 && parse.GetValue(redis) is null) throw new ArgumentException("give --primary HOST:PORT (a silo's gateway port) or --redis CONN");
            return ServeCommand.Run(c.Settings(parse) with { ClusterGateways = gateways, Redis = parse.GetValue(redis) });
        });
        return command;
    }
}

/// <summary>Options shared by serve and gateway.</summary>
sealed class GatewayCliOptions
{
    readonly Option<DirectoryInfo> _model = new("--model") { Description = "HuggingFace model directory (config.json, tokenizer.json, tokenizer_config.json; serve: *.safetensors)", Required = true };
    readonly Option<string?> _modelId = new("--model-id") { Description = "the model's id in the API and stats (default: the directory's name)" };
    readonly Option<int> _port = new("--port") { Description = "HTTP port", DefaultValueFactory = _ => 8000 };
    readonly Option<string> _host = new("--host") { Description = "IP address to listen on (default loopback; 0.0.0.0 for all)", DefaultValueFactory = _ => "127.0.0.1" };
    readonly Option<string[]> _apiKey = new("--api-key") { Description = "accepted Bearer API key (repeatable; also Gateway:ApiKeys in configuration); none = open" };
    readonly Option<int?> _rpm = new("--rpm") { Description = "requests per minute per API key (0 = unlimited)" };
    readonly Option<int?> _tpm = new("--tpm") { Description = "tokens per minute per API key: prompt + max_tokens (0 = unlimited)" };
    readonly Option<string> _clusterId = new("--cluster-id") { Description = "Orleans cluster id", DefaultValueFactory = _ => "dsmesh" };

    public void AddTo(Command command)
    {
        command.Add(_model);
        command.Add(_modelId);
        command.Add(_port);
        command.Add(_host);
        command.Add(_apiKey);
        command.Add(_rpm);
        command.Add(_tpm);
        command.Add(_clusterId);
    }

    public GatewaySettings Settings(ParseResult parse)
    {
        var directory = parse.GetValue(_model)!;
        if (!directory.Exists) throw new DirectoryNotFoundException($"{directory.FullName}: model directory not found");
        if (!IPAddress.TryParse(parse.GetValue(_host), out var address)) throw new ArgumentException($"--host: '{parse.GetValue(_host)}' is not an IP address");
        int port = parse.GetValue(_port);
        if (port is < 0 or > 65535) throw new ArgumentException($"--port: {port} is not a port");
        var keys = parse.GetValue(_apiKey) ?? [];
        int? rpm = parse.GetValue(_rpm), tpm = parse.GetValue(_tpm);
        return new GatewaySettings
        {
            ModelDirectory = directory.FullName,
            ModelId = parse.GetValue(_modelId),
            Address = address,
            Port = port,
            ClusterId = parse.GetValue(_clusterId)!,
            Configure = o =>
            {
                o.ApiKeys.AddRange(keys);
                if (rpm is { } r) o.RequestsPerMinute = r;
                if (tpm is { } t) o.TokensPerMinute = t;
            },
        };
    }
}
