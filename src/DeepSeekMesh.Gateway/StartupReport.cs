using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeepSeekMesh.Gateway;

/// <summary>Logs what was started and warns when the API is open.</summary>
sealed class StartupReport(ServedModel model, ApiKeys keys, IOptions<GatewayOptions> options, ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (keys.Open)
            logger.LogWarning("no API keys configured (Gateway:ApiKeys or --api-key): the API is open to anyone who can reach it");
        logger.LogInformation("serving model {Model} (context {Context} tokens{Random}); limits: {Rpm} requests/min, {Tpm} tokens/min per key (0 = unlimited), body {Body} bytes",
            model.Id, model.ContextLength, model.RandomWeights ? ", RANDOM WEIGHTS (demo)" : "", o.RequestsPerMinute, o.TokensPerMinute, o.MaxRequestBodyBytes);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
