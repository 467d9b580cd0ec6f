using System.CommandLine;
using DeepSeekMesh.Cli.Hosting;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Silo;

namespace DeepSeekMesh.Cli.Commands;

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
        var noPrefixCaching = new Option<bool>("--no-prefix-caching") { Description = "turn off automatic prefix caching (reuse of cached prompt prefixes)" };
        var compute = new ComputeOptions();
        var command = new Command("serve", "Serve the OpenAI-compatible API with a one-silo mesh in this process, until Ctrl+C");
        c.AddTo(command);
        command.Add(siloPort);
        command.Add(gatewayPort);
        command.Add(noPrefixCaching);
        compute.AddTo(command);
        command.SetAction(parse =>
        {
            var model = compute.Read(parse);
            var settings = new ServeSettings
            {
                Gateway = c.Settings(parse),
                Silo = new MeshSiloOptions
                {
                    Model = model,
                    WireDtype = ComputeOptions.WireDtypeFor(model),
                    Engine = new EngineOptions { EnablePrefixCaching = !parse.GetValue(noPrefixCaching) },
                },
                SiloPort = parse.GetValue(siloPort),
                SiloGatewayPort = parse.GetValue(gatewayPort),
                ClusterId = c.ClusterId(parse),
            };
            using var app = ServeHost.Build(settings);
            app.Run(); // until Ctrl+C / SIGTERM
            return 0;
        });
        return command;
    }
}
