using System.CommandLine;
using DeepSeekMesh.Cli.Hosting;
using DeepSeekMesh.Silo.Hosting;

namespace DeepSeekMesh.Cli.Commands;

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
        var tls = new TlsCliOptions();
        tls.AddTo(command);
        command.Add(primary);
        command.Add(redis);
        command.SetAction(parse =>
        {
            var gateways = (parse.GetValue(primary) ?? []).Select(MeshSiloHost.ParseEndpoint).ToArray();
            if (gateways.Length > 0 && parse.GetValue(redis) is not null) throw new ArgumentException("give --primary or --redis, not both");
            if (gateways.Length == 0 && parse.GetValue(redis) is null) throw new ArgumentException("give --primary HOST:PORT (a silo's gateway port) or --redis CONN");
            var cluster = new ClusterClientSettings { Gateways = gateways, Redis = parse.GetValue(redis), ClusterId = c.ClusterId(parse), Tls = tls.Read(parse) };
            using var app = GatewayClientHost.Build(c.Settings(parse), cluster);
            app.Run(); // until Ctrl+C / SIGTERM
            return 0;
        });
        return command;
    }
}
