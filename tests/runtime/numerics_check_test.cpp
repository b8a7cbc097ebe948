// --check-numerics: the first node whose output holds NaN or Inf is named with its source
// location, output shape and the bad element's index; without the option nothing is checked.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/runtime/program.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::Session& session() { return opgraph::testing::core_session(); }

// conv (a blocked layout), relu, dense: a NaN pixel spreads from the first node on.
const char* kYaml = R"(model:
  inputs: {image: [4, 4, 1]}
  layers:
    - {name: conv, op: conv2d, filters: 16, kernel: 3}
    - {name: act, op: relu}
    - {name: flat, op: flatten}
    - {name: scores, op: dense, units: 2}
)";

std::unique_ptr<opgraph::Program> compile(bool check) {
    const opgraph::ModelFile model = opgraph::parse_model(kYaml, "numerics.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::ProgramOptions options;
    options.batch_size = 3;
    options.check_numerics = check;
    return std::make_unique<opgraph::Program>(model.graph, session().ops(), options);
}

std::vector<float> image_with(float bad, std::size_t at) {
    std::vector<float> x(3 * 16, 0.5f);
    x[at] = bad;
    return x;
}

TEST(CheckNumerics, NamesTheFirstNodeWithItsLocationShapeAndIndex) {
    auto program = compile(true);
    // Sample 2, pixel (1, 1): every output of conv at (2, 0, 0, c) reads it.
    program->write("image", image_with(std::numeric_limits<float>::quiet_NaN(), 2 * 16 + 5));
    try {
        program->run();
        FAIL() << "a NaN went through";
    } catch (const opgraph::NumericalError& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.exit_code(), opgraph::ExitCode::numerical);
        EXPECT_NE(message.find("numerics.yaml:4:"), std::string::npos) << message;
        EXPECT_NE(message.find("node 'conv' (op 'conv2d')"), std::string::npos) << message;
        EXPECT_NE(message.find("(3, 2, 2, 16) holds nan at [2, 0, 0, 0]"), std::string::npos)
            << message;
    }
    // The program stays usable.
    program->write("image", image_with(0.25f, 0));
    EXPECT_NO_THROW(program->run());
}

TEST(CheckNumerics, InfinityIsNamedToo) {
    auto program = compile(true);
    program->write("image", image_with(std::numeric_limits<float>::infinity(), 0));
    try {
        program->run();
        FAIL() << "an infinity went through";
    } catch (const opgraph::NumericalError& e) {
        EXPECT_NE(std::string(e.what()).find("node 'conv'"), std::string::npos) << e.what();
    }
}

TEST(CheckNumerics, OffByDefault) {
    auto program = compile(false);
    program->write("image", image_with(std::numeric_limits<float>::quiet_NaN(), 0));
    EXPECT_NO_THROW(program->run());
    EXPECT_TRUE(std::isnan(program->read("conv").front()));  // (relu may turn it to 0)
}

}  // namespace
