using System.Diagnostics;
using Microsoft.ML.Data;
using SkiaSharp;
using Tina.Data;
using Tina.MLNet;
using Tina.MLNet.Errors;

namespace Tina.Tests.MLNet;

/// <summary>
/// Photos of any ordinary size are classified through every input of <see cref="TinaPredictor"/>, and images over
/// <see cref="TinaImageLimits"/> (too many bytes, or a header declaring too many pixels) are refused before decoding.
/// </summary>
public class ImageLimitsTests
{
    /// <summary>A stream that can only be read forward (a network body).</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
    }

    [Fact]
    public void LargePhotosOfAnyShapeAreClassifiedFromPathsBytesAndStreams()
    {
        var f = ThreeClassFixture.Instance;
        using var predictor = TinaPredictor.FromOnnx(f.Onnx, "fixture");
        var apple = TestPhotos.Cifar("apple");
        var dir = TestData.TempDir();
        var photos = new (string Name, byte[] Bytes, int Width, int Height)[]
        {
            ("landscape.jpg", TestPhotos.Upscaled(apple, 3000, 2000), 3000, 2000),
            ("tall.jpg", TestPhotos.Upscaled(apple, 900, 3600, seed: 2), 900, 3600),
            ("photo.png", TestPhotos.Upscaled(apple, 640, 480, SKEncodedImageFormat.Png), 640, 480),
            ("photo.webp", TestPhotos.Upscaled(apple, 640, 480, SKEncodedImageFormat.Webp, quality: 90), 640, 480),
            ("photo.bmp", TestPhotos.Upscaled(apple, 640, 480, SKEncodedImageFormat.Bmp), 640, 480),
        };
        // A camera-sized JPEG: megabytes, far over the JSON endpoint's 64 KB, well under the 20 MB limit.
        Assert.InRange(photos[0].Bytes.Length, 1_500_000, 10_000_000);
        foreach (var (name, bytes, width, height) in photos)
        {
            var header = TinaImages.CheckHeader(bytes, name);
            Assert.Equal((width, height), (header.Width, header.Height));
            var path = Path.Combine(dir, name);
            File.WriteAllBytes(path, bytes);

            // What ML.NET's own decoder gives, without Tina's checks: the limits change nothing for an image that passes them.
            using var decoded = MLImage.CreateFromStream(new MemoryStream(bytes));
            var expected = predictor.Predict(decoded, name);
            Assert.Contains(expected.Label, f.Model.Labels);
            foreach (var p in new[]
            {
                predictor.Predict(path),
                predictor.Predict(bytes),
                predictor.Predict(new MemoryStream(bytes), name),
                predictor.Predict(new ForwardOnlyStream(bytes), name),
            })
            {
                Assert.Equal(expected.Label, p.Label);
                Assert.Equal(expected.Scores, p.Scores);
            }
        }
    }

    [Fact]
    public void DecompressionBombsAreRefusedBeforeDecodingWithTheLimitNamed()
    {
        var f = ThreeClassFixture.Instance;
        using var predictor = TinaPredictor.FromOnnx(f.Onnx, "fixture");
        var dir = TestData.TempDir();
        var bombs = new (string Name, byte[] Bytes, ImageLimitKind Kind, string Limit)[]
        {
            ("bomb.png", TestPhotos.PngBomb(30000, 30000), ImageLimitKind.Pixels, "40 megapixels"),
            ("bomb.jpg", TestPhotos.JpegBomb(30000, 30000), ImageLimitKind.Pixels, "40 megapixels"),
            ("bomb.bmp", TestPhotos.BmpBomb(30000, 30000), ImageLimitKind.Pixels, "40 megapixels"),
            ("ribbon.png", TestPhotos.PngBomb(50000, 100), ImageLimitKind.Side, "20000 pixels"),
        };
        var watch = Stopwatch.StartNew();
        foreach (var (name, bytes, kind, limit) in bombs)
        {
            Assert.True(bytes.Length < 4096, $"{name} is {bytes.Length} bytes");
            var path = Path.Combine(dir, name);
            File.WriteAllBytes(path, bytes);
            var refusals = new[]
            {
                Assert.Throws<ImageTooLargeException>(() => predictor.Predict(path)),
                Assert.Throws<ImageTooLargeException>(() => predictor.Predict(bytes)),
                Assert.Throws<ImageTooLargeException>(() => predictor.Predict(new ForwardOnlyStream(bytes), name)),
                Assert.Throws<ImageTooLargeException>(() => TinaImages.CheckHeader(bytes, name)),
                // The core's decoder (image prompts, CLIP's image tower) goes through the same check.
                Assert.Throws<ImageTooLargeException>(() => ImageDecoder.Decode(bytes)),
            };
            foreach (var e in refusals)
            {
                Assert.Equal(kind, e.Limit);
                Assert.Contains(limit, e.Message);
                Assert.Contains("not decoded", e.Message);
                Assert.Contains(kind == ImageLimitKind.Side ? "50000×100" : "30000×30000", e.Message);
            }
            Assert.Contains(path, refusals[0].Message);
            Assert.Equal(name, refusals[2].ImageSource);
        }
        // Decoding just one of them would allocate 3.6 GB and take many seconds; the header alone takes microseconds.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"refusing {bombs.Length} bombs 5 ways took {watch.Elapsed}");
        // The predictor still works afterwards.
        Assert.Equal(3, predictor.Predict(Path.Combine(f.ImageDir, f.FileNames[0])).Scores.Length);
    }

    [Fact]
    public void ImagesOverTheByteLimitAreRefusedBeforeTheyAreRead()
    {
        var f = ThreeClassFixture.Instance;
        using var predictor = TinaPredictor.FromOnnx(f.Onnx, "fixture");
        var dir = TestData.TempDir();

        // 21 MB on disk (the default limit is 20 MB): refused by its length, not read.
        var huge = Path.Combine(dir, "huge.jpg");
        using (var s = File.Create(huge)) s.SetLength(21L * 1024 * 1024);
        var e = Assert.Throws<ImageTooLargeException>(() => predictor.Predict(huge));
        Assert.Equal(ImageLimitKind.Bytes, e.Limit);
        Assert.Equal(21L * 1024 * 1024, e.Actual);
        Assert.Contains("21 MB, over the limit of 20 MB", e.Message);
        Assert.Contains(huge, e.Message);

        // A predictor with a lower limit refuses a photo that the default takes, from every input.
        var photo = TestPhotos.Upscaled(TestPhotos.Cifar("apple"), 1200, 800);
        var path = Path.Combine(dir, "photo.jpg");
        File.WriteAllBytes(path, photo);
        predictor.ImageLimits = new TinaImageLimits { MaxBytes = 64 * 1024 };
        Assert.Equal(ImageLimitKind.Bytes, Assert.Throws<ImageTooLargeException>(() => predictor.Predict(path)).Limit);
        Assert.Equal(ImageLimitKind.Bytes, Assert.Throws<ImageTooLargeException>(() => predictor.Predict(photo)).Limit);
        Assert.Equal(photo.Length, Assert.Throws<ImageTooLargeException>(() => predictor.Predict(new MemoryStream(photo))).Actual);
        var cut = Assert.Throws<ImageTooLargeException>(() => predictor.Predict(new ForwardOnlyStream(photo)));
        Assert.Null(cut.Actual); // read only up to the limit
        Assert.Contains("over the limit of 64 KB", cut.Message);

        // And one with a lower pixel limit refuses it by its header.
        predictor.ImageLimits = new TinaImageLimits { MaxPixels = 500_000 };
        var px = Assert.Throws<ImageTooLargeException>(() => predictor.Predict(photo));
        Assert.Equal((ImageLimitKind.Pixels, 1200, 800, 960_000L), (px.Limit, px.Width, px.Height, px.Actual));
        Assert.Contains("over the limit of 0.5 megapixels", px.Message);
        predictor.ImageLimits = TinaImageLimits.Default;
        Assert.Contains(predictor.Predict(photo).Label, f.Model.Labels);

        Assert.Throws<ArgumentOutOfRangeException>(() => new TinaImageLimits { MaxBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TinaImageLimits { MaxPixels = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TinaImageLimits { MaxSide = 0 });
        Assert.Throws<ArgumentNullException>(() => predictor.ImageLimits = null!);
        Assert.Equal("20 MB, 40 megapixels, 20000 pixels per side", TinaImageLimits.Default.ToString());

        // Not an image at all: a CorruptFileException, as before.
        Assert.Throws<CorruptFileException>(() => predictor.Predict("not an image"u8.ToArray()));
        Assert.Throws<CorruptFileException>(() => predictor.Predict(Array.Empty<byte>()));
    }
}
