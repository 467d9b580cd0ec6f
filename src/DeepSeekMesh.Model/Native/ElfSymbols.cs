using System.IO.MemoryMappedFiles;
using System.Text;

namespace DeepSeekMesh.Model.Native;

/// <summary>
/// The dynamic symbols (.dynsym) of an x86-64 ELF shared library, read without loading it: what it
/// defines and what it needs from others. Lets us check that a libtorch defines every symbol
/// LibTorchSharp needs before the loader meets a missing one (with lazy binding, a missing function
/// only fails when first called: "symbol lookup error", and the process exits).
/// </summary>
public sealed class ElfSymbols
{
    public required string Path { get; init; }
    public required IReadOnlySet<string> Defined { get; init; }
    public required IReadOnlySet<string> Undefined { get; init; }

    public static unsafe ElfSymbols Read(string path)
    {
        using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* b = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref b);
        try
        {
            b += view.PointerOffset;
            long length = (long)view.SafeMemoryMappedViewHandle.ByteLength - view.PointerOffset;
            if (length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
                throw new InvalidDataException($"{path}: not a little-endian 64-bit ELF file");
            long sectionHeaders = *(long*)(b + 0x28);
            int entrySize = *(ushort*)(b + 0x3A), count = *(ushort*)(b + 0x3C);
            var defined = new HashSet<string>(StringComparer.Ordinal);
            var undefined = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < count; i++)
            {
                byte* section = b + sectionHeaders + (long)i * entrySize;
                if (*(uint*)(section + 4) != 11) continue; // SHT_DYNSYM
                long offset = *(long*)(section + 0x18), size = *(long*)(section + 0x20), symbolSize = *(long*)(section + 0x38);
                byte* strings = b + *(long*)(b + sectionHeaders + (long)*(uint*)(section + 0x28) * entrySize + 0x18); // sh_link: its string table
                for (long s = offset + symbolSize; s + symbolSize <= offset + size; s += symbolSize) // entry 0 is the null symbol
                {
                    uint name = *(uint*)(b + s);
                    ushort sectionIndex = *(ushort*)(b + s + 6);
                    if (name == 0) continue;
                    var text = new string((sbyte*)(strings + name), 0, Length(strings + name), Encoding.ASCII);
                    (sectionIndex == 0 ? undefined : defined).Add(text);
                }
            }
            return new ElfSymbols { Path = path, Defined = defined, Undefined = undefined };
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    static unsafe int Length(byte* s)
    {
        int n = 0;
        while (s[n] != 0) n++;
        return n;
    }
}
