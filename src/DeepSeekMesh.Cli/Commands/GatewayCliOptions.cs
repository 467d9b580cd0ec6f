using System.CommandLine;
using System.Net;
using DeepSeekMesh.Gateway;

namespace DeepSeekMesh.Cli.Commands;

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

    public string ClusterId(ParseResult parse) => parse.GetValue(_clusterId)!;

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
            Configure = o =>
            {
                o.ApiKeys.AddRange(keys);
                if (rpm is { } r) o.RequestsPerMinute = r;
                if (tpm is { } t) o.TokensPerMinute = t;
            },
        };
    }
}
