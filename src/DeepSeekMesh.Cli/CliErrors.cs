using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Weights;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Cli;

/// <summary>Errors a user can cause become one line on stderr and exit code 1; bugs keep their stack trace.</summary>
public static class CliErrors
{
    public static int Run(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (Exception e) when (e is ModelConfigException or WeightFormatException or SamplingParamsException
                                      or ContextLengthException or ArgumentException or FileNotFoundException
                                      or DirectoryNotFoundException or UsageException or FormatException
                                      or Tokenizers.TokenizerFormatException or ChatTemplates.TemplateException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (TypeInitializationException e) when (e.TypeName == "TorchSharp.torch")
        {
            // TorchSharp found no libtorch that LibTorchSharp binds to; its own message blames a missing package reference.
            Console.Error.WriteLine($"error: libtorch could not be loaded ({Model.Native.LibTorchRuntime.Backend} build); `dsmesh inspect --devices` says which libtorch was found and what it lacks");
            Console.Error.WriteLine(e.InnerException?.Message.Split('\n')[0]);
            return 1;
        }
    }
}

/// <summary>A command line that parses but asks for something impossible.</summary>
public sealed class UsageException(string message) : Exception(message);
